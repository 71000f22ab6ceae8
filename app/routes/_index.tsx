import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../lib/trpc";
import { pageTitle } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { SystemInfoPanel } from "../components/system-info-panel";
import { WhatsNextPanel } from "../components/whats-next-panel";

export const meta: MetaFunction = () => [{ title: pageTitle("Overview") }];

export async function loader({ context }: LoaderFunctionArgs) {
  return { info: await context.caller.system.info(), loadedAt: Date.now() };
}

const REFRESH_MS = 10_000;

export default function Overview() {
  const loaderData = useLoaderData<typeof loader>();
  const trpc = useTRPC();
  // Server-rendered from the loader, then kept fresh in the browser through the same procedure.
  const query = useQuery(
    trpc.system.info.queryOptions(undefined, {
      initialData: loaderData.info,
      initialDataUpdatedAt: loaderData.loadedAt,
      refetchInterval: REFRESH_MS,
    }),
  );

  return (
    <div className="page" data-testid="page-overview">
      <PageHeader title="Overview" description="The health of this installation. Counts, failing sources and pending join requests join it as their capabilities arrive." />
      <SystemInfoPanel info={query.data} live={{ updatedAt: query.dataUpdatedAt, fetching: query.isFetching, failed: query.isError }} />
      <WhatsNextPanel />
    </div>
  );
}
