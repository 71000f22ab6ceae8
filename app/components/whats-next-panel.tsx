// The Overview's honest roadmap: capability areas not built yet and the pages each one fills.
import { Link } from "@remix-run/react";
import { capabilities, sectionsFilledBy } from "../lib/sections";

export function WhatsNextPanel() {
  if (!capabilities.length) return null;
  return (
    <section className="panel" id="whats-next" data-testid="whats-next" aria-labelledby="whats-next-title">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="whats-next-title">
            What&rsquo;s next
          </h2>
          <p className="panel-subtitle">Capability areas not built yet. Their pages exist and say what will fill them.</p>
        </div>
      </header>
      <ol className="roadmap-list">
        {capabilities.map((capability) => {
          const pages = sectionsFilledBy(capability.id);
          return (
            <li className="roadmap-item" key={capability.id} data-testid={`capability-${capability.id}`}>
              <div className="roadmap-item-head">
                <h3 className="roadmap-item-title">{capability.title}</h3>
                <span className="tag">Not built yet</span>
              </div>
              <p className="roadmap-item-summary">{capability.summary}</p>
              {pages.length > 0 ? (
                <p className="roadmap-item-pages">
                  <span className="muted">Fills </span>
                  {pages.map((page, i) => (
                    <span key={page.id}>
                      {i > 0 ? ", " : null}
                      <Link to={page.path}>{page.label}</Link>
                    </span>
                  ))}
                </p>
              ) : null}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
