// A secret the server returns exactly once (a new API key, a one-time password): highlighted, copyable, and plain
// about the fact that it will not be shown again.
import type { ReactNode } from "react";
import { CopyButton } from "./copy-button";
import { KeyIcon } from "./icons";

export function SecretReveal({ title, secret, testId, children }: { title: string; secret: string; testId: string; children: ReactNode }) {
  return (
    <section className="secret-reveal" data-testid={testId} aria-labelledby={`${testId}-title`}>
      <div className="secret-reveal-head">
        <span className="secret-reveal-icon" aria-hidden="true">
          <KeyIcon />
        </span>
        <h2 className="secret-reveal-title" id={`${testId}-title`}>
          {title}
        </h2>
        <span className="badge badge-warn">Shown once</span>
      </div>
      <div className="secret-reveal-value">
        <code data-testid={`${testId}-value`}>{secret}</code>
        <CopyButton value={secret} testId={`${testId}-copy`} />
      </div>
      <div className="secret-reveal-body">{children}</div>
    </section>
  );
}
