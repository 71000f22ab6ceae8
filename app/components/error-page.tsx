// What the root error boundary shows: the status, a plain message, and the request id to quote when reporting it.
import { Link, isRouteErrorResponse, useLocation } from "@remix-run/react";

interface Described {
  status: number;
  title: string;
  message: string;
  detail: string | null;
}

export function describeError(error: unknown, pathname: string): Described {
  if (isRouteErrorResponse(error)) {
    if (error.status === 404) {
      return { status: 404, title: "Page not found", message: `There is no page at ${pathname}. Check the address, or pick a section from the navigation.`, detail: null };
    }
    const text = typeof error.data === "string" ? error.data : (error.data as { message?: unknown } | null)?.message;
    return {
      status: error.status,
      title: error.statusText || "Request failed",
      message: typeof text === "string" && text ? text : "The request could not be completed.",
      detail: null,
    };
  }
  return {
    status: 500,
    title: "Something went wrong",
    message: "Cairn hit an unexpected error while showing this page. Reloading may help; if it keeps happening, report it with the request id below.",
    detail: error instanceof Error ? error.message : null,
  };
}

export const errorTitle = (error: unknown) =>
  isRouteErrorResponse(error) ? (error.status === 404 ? "Not found" : `Error ${error.status}`) : "Error";

export function ErrorPage({ error, requestId }: { error: unknown; requestId: string | null }) {
  const { pathname } = useLocation();
  const described = describeError(error, pathname);
  return (
    <div className="page error-page" data-testid="error-page">
      <p className="error-status" data-testid="error-status">
        {described.status}
      </p>
      <h1 className="page-title">{described.title}</h1>
      <p className="error-message" data-testid="error-message">
        {described.message}
      </p>
      {described.detail ? (
        <details className="error-detail">
          <summary>Technical detail</summary>
          <pre>{described.detail}</pre>
        </details>
      ) : null}
      {requestId ? (
        <p className="error-request-id">
          Request id <code data-testid="request-id">{requestId}</code>
        </p>
      ) : null}
      <p className="error-actions">
        <Link to="/" className="button button-primary">
          Go to Overview
        </Link>
      </p>
    </div>
  );
}
