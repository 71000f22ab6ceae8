import type { MetaFunction } from "@remix-run/node";
import { SectionPlaceholder } from "../components/section-placeholder";
import { pageTitle } from "../lib/sections";

export const meta: MetaFunction = () => [{ title: pageTitle("Jobs") }];

export default function JobsPage() {
  return <SectionPlaceholder id="jobs" />;
}
