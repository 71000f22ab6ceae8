// Creating a schedule for a source; once saved, its page previews the next fire times.
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { attempt, load } from "../lib/auth.server";
import { readScheduleForm } from "../lib/schedule-form-data";
import { pushOnlyReason } from "../lib/control-plane";
import { pageTitle } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { ScheduleForm } from "../components/schedule-form";
import { Notice } from "../components/notice";

export const meta: MetaFunction = () => [{ title: pageTitle("New schedule") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  const sources = await load(request, () => context.caller.sources.list({ limit: 200 }));
  return {
    sources: sources.items.map((s) => ({ id: s.source_id, name: s.display_name, kind: s.kind, unavailable: pushOnlyReason(s) })),
    sourceId: new URL(request.url).searchParams.get("source_id") ?? undefined,
  };
}

export async function action({ context, request }: ActionFunctionArgs) {
  const form = await request.formData();
  const result = await attempt(request, () =>
    context.caller.schedules.create({ source_id: String(form.get("source_id") ?? ""), enabled: form.get("enabled") === "on", ...readScheduleForm(form) }),
  );
  if (!result.ok) return data({ error: result.failure.message }, { status: result.failure.status });
  throw redirect(`/schedules/${result.value.schedule_id}?created=1`);
}

export default function NewSchedulePage() {
  const { sources, sourceId } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const pushOnly = sources.find((s) => s.id === sourceId)?.unavailable ?? null;
  return (
    <div className="page" data-testid="page-new-schedule">
      <p className="breadcrumb">
        <Link to="/schedules">Schedules</Link> <span aria-hidden="true">/</span> New
      </p>
      <PageHeader title="New schedule" description="When a source runs by itself. After saving you see the next fire times in its zone, daylight saving included." />
      {pushOnly ? (
        <Notice tone="warn" testId="schedule-push-only">
          {pushOnly}
        </Notice>
      ) : null}
      {sources.length ? (
        <ScheduleForm sources={sources} defaultSourceId={pushOnly ? undefined : sourceId} error={result?.error ?? null} busy={navigation.state === "submitting"} cancelTo={sourceId ? `/sources/${sourceId}?tab=schedules` : "/schedules"} />
      ) : (
        <p className="panel panel-empty">
          There is no source to schedule yet. <Link to="/sources/new">Create a source</Link> first.
        </p>
      )}
    </div>
  );
}
