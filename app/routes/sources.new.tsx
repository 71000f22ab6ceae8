// Registering a source: its kind (kinds without a connector in this build are marked), name, scope, credentials,
// overlap policy, time budget and labels.
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { attempt } from "../lib/auth.server";
import { runnableKinds } from "../lib/connectors.server";
import { readSourceForm } from "../lib/source-form-data";
import type { SourceKind } from "../lib/control-plane";
import { pageTitle } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { SourceForm } from "../components/source-form";

export const meta: MetaFunction = () => [{ title: pageTitle("New source") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  const refs = await attempt(request, () => context.caller.credentials.list({ limit: 200 }));
  return {
    runnable: runnableKinds(),
    credentials: refs.ok ? refs.value.items.map((c) => ({ id: c.credential_ref_id, name: c.name, provider: c.provider })) : null,
  };
}

export async function action({ context, request }: ActionFunctionArgs) {
  const form = await request.formData();
  const read = readSourceForm(form);
  if (!read.ok) return data({ error: read.error }, { status: 400 });
  const { owner, ...fields } = read.fields;
  const result = await attempt(request, () => context.caller.sources.create({ kind: String(form.get("kind") ?? "") as SourceKind, ...fields, ...(owner ? { owner } : {}) }));
  if (!result.ok) return data({ error: result.failure.message }, { status: result.failure.status });
  throw redirect(`/sources/${result.value.source_id}`);
}

export default function NewSourcePage() {
  const { runnable, credentials } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  return (
    <div className="page" data-testid="page-new-source">
      <p className="breadcrumb">
        <Link to="/sources">Sources</Link> <span aria-hidden="true">/</span> New
      </p>
      <PageHeader title="New source" description="Something Cairn collects from. Run it now from its page, or give it a schedule." />
      <SourceForm runnable={runnable} credentials={credentials} error={result?.error ?? null} busy={navigation.state === "submitting"} cancelTo="/sources" />
    </div>
  );
}
