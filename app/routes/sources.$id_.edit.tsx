// Editing a source: every field but its kind. The next run uses the new values (a retry too).
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { attempt, load } from "../lib/auth.server";
import { runnableKinds } from "../lib/connectors.server";
import { readSourceForm } from "../lib/source-form-data";
import { pageTitle } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { SourceForm } from "../components/source-form";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: pageTitle(data ? `Edit ${data.source.display_name}` : "Edit source") }];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const [source, refs] = await Promise.all([
    load(request, () => context.caller.sources.get({ id: params.id ?? "" })),
    attempt(request, () => context.caller.credentials.list({ limit: 200 })),
  ]);
  return {
    source,
    runnable: runnableKinds(),
    credentials: refs.ok ? refs.value.items.map((c) => ({ id: c.credential_ref_id, name: c.name, provider: c.provider })) : null,
  };
}

export async function action({ context, request, params }: ActionFunctionArgs) {
  const read = readSourceForm(await request.formData());
  if (!read.ok) return data({ error: read.error }, { status: 400 });
  const id = params.id ?? "";
  const result = await attempt(request, () => context.caller.sources.update({ id, ...read.fields }));
  if (!result.ok) return data({ error: result.failure.message }, { status: result.failure.status });
  throw redirect(`/sources/${id}?saved=1`);
}

export default function EditSourcePage() {
  const { source, runnable, credentials } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  return (
    <div className="page" data-testid="page-edit-source">
      <p className="breadcrumb">
        <Link to="/sources">Sources</Link> <span aria-hidden="true">/</span> <Link to={`/sources/${source.source_id}`}>{source.display_name}</Link>{" "}
        <span aria-hidden="true">/</span> Edit
      </p>
      <PageHeader title={`Edit ${source.display_name}`} description="Changes apply to the next run, including retries of earlier ones." />
      <SourceForm
        source={source}
        runnable={runnable}
        credentials={credentials}
        error={result?.error ?? null}
        busy={navigation.state === "submitting"}
        cancelTo={`/sources/${source.source_id}`}
      />
    </div>
  );
}
