// The fields of a source, for creating one and for editing it (its kind is fixed once created).
import { Form, Link } from "@remix-run/react";
import { useRef, useState } from "react";
import { OVERLAP_POLICIES, OVERLAP_SUMMARY, SOURCE_KINDS, kindInfo, labelsText, type Source } from "../lib/control-plane";
import { Notice } from "./notice";

export interface CredentialChoice {
  id: string;
  name: string;
  provider: string;
}

const pretty = (v: unknown) => JSON.stringify(v, null, 2);

export function SourceForm({
  source,
  runnable,
  credentials,
  error,
  busy,
  cancelTo,
}: {
  /** The source being edited; absent when creating one. */
  source?: Source;
  /** Kinds with a connector in this build. */
  runnable: string[];
  /** Credential refs to choose from, or null when the person may not list them. */
  credentials: CredentialChoice[] | null;
  error: string | null;
  busy: boolean;
  cancelTo: string;
}) {
  const firstRunnable = SOURCE_KINDS.find((k) => runnable.includes(k.kind))?.kind ?? SOURCE_KINDS[0]!.kind;
  const [kind, setKind] = useState<string>(source?.kind ?? firstRunnable);
  const [mode, setMode] = useState<string>(source?.credential_mode ?? "none");
  const scopeRef = useRef<HTMLTextAreaElement>(null);
  const info = kindInfo(kind);
  const example = pretty(info?.example ?? {});
  const supported = runnable.includes(kind);

  return (
    <Form method="post" className="panel" data-testid="source-form">
      <div className="panel-body">
        {error ? (
          <Notice tone="error" testId="source-form-error">
            {error}
          </Notice>
        ) : null}
        <div className="form-grid">
          <div className="field">
            <label className="field-label" htmlFor="source-kind">
              Kind
            </label>
            {source ? (
              <input id="source-kind" className="input mono" value={source.kind} readOnly />
            ) : (
              <select id="source-kind" className="input" name="kind" value={kind} onChange={(e) => setKind(e.target.value)} data-testid="source-kind">
                {SOURCE_KINDS.map((k) => (
                  <option key={k.kind} value={k.kind}>
                    {k.kind}
                    {runnable.includes(k.kind) ? "" : " (unsupported in this build)"}
                  </option>
                ))}
              </select>
            )}
            <p className="field-hint">{info ? `${info.label}: ${info.summary}` : null}</p>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="source-name">
              Display name
            </label>
            <input id="source-name" className="input" name="display_name" required maxLength={200} defaultValue={source?.display_name ?? ""} autoComplete="off" placeholder="Developer laptops: MCP configs" />
          </div>
          <div className="field">
            <label className="field-label" htmlFor="source-owner">
              Owner <span className="muted">(optional)</span>
            </label>
            <input id="source-owner" className="input" name="owner" maxLength={200} defaultValue={source?.owner ?? ""} autoComplete="off" placeholder="platform-security" />
          </div>

          {!supported ? (
            <div className="field-span">
              <Notice tone="warn" testId="kind-unsupported">
                <strong>{kind}</strong> has no connector in this build. You can register the source, but it shows as unsupported and refuses to run until a connector for
                its kind exists.
              </Notice>
            </div>
          ) : null}

          <div className="field field-span">
            <label className="field-label" htmlFor="source-scope">
              Scope (JSON)
            </label>
            <textarea
              id="source-scope"
              ref={scopeRef}
              className="input textarea mono"
              name="scope"
              rows={5}
              spellCheck={false}
              defaultValue={source ? pretty(source.scope) : ""}
              placeholder={example}
              data-testid="source-scope"
            />
            <p className="field-hint">
              What to collect, as a JSON object. For {kind}: <code>{JSON.stringify(info?.example ?? {})}</code>{" "}
              <button
                type="button"
                className="link-button"
                onClick={() => {
                  if (scopeRef.current) scopeRef.current.value = example;
                }}
              >
                Use this example
              </button>
              {kind === "scan.mcp_config" ? " · directories are searched for client configs; files are read as configs." : null}
            </p>
          </div>

          <div className="field">
            <label className="field-label" htmlFor="source-credential-mode">
              Credentials
            </label>
            <select id="source-credential-mode" className="input" name="credential_mode" value={mode} onChange={(e) => setMode(e.target.value)}>
              <option value="none">None</option>
              <option value="credential_ref">A credential ref</option>
            </select>
            <p className="field-hint">Values are resolved by the broker at run time, for one job; Cairn never stores them.</p>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="source-credential-ref">
              Credential ref
            </label>
            <select id="source-credential-ref" className="input" name="credential_ref_id" defaultValue={source?.credential_ref_id ?? ""} disabled={mode === "none"}>
              <option value="">{credentials === null ? "Your role cannot list credential refs" : credentials.length ? "Choose a ref" : "No credential refs yet"}</option>
              {(credentials ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} ({c.provider})
                </option>
              ))}
            </select>
            <p className="field-hint">
              <Link to="/credentials">Manage credential refs</Link>
            </p>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="source-overlap">
              Overlap policy
            </label>
            <select id="source-overlap" className="input" name="overlap_policy" defaultValue={source?.overlap_policy ?? "skip"}>
              {OVERLAP_POLICIES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
            <p className="field-hint">When a run is requested while one is active. {OVERLAP_SUMMARY.skip}.</p>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="source-budget">
              Time budget (seconds)
            </label>
            <input id="source-budget" className="input" type="number" name="time_budget_seconds" min={10} max={86400} step={1} defaultValue={source?.time_budget_seconds ?? 900} />
            <p className="field-hint">A run still going after this long is stopped as timed out.</p>
          </div>
          <div className="field field-span">
            <label className="field-label" htmlFor="source-labels">
              Labels <span className="muted">(optional)</span>
            </label>
            <textarea id="source-labels" className="input textarea mono" name="labels" rows={3} defaultValue={source ? labelsText(source.labels) : ""} placeholder={"team=platform\nenv=prod"} spellCheck={false} />
            <p className="field-hint">One key=value per line.</p>
          </div>
        </div>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy} data-testid="source-submit">
            {busy ? "Saving…" : source ? "Save changes" : "Create source"}
          </button>
          <Link to={cancelTo} className="button">
            Cancel
          </Link>
        </div>
      </div>
    </Form>
  );
}
