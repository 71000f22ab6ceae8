import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Links, Meta, Outlet, Scripts, ScrollRestoration, useLoaderData, useRouteError, useRouteLoaderData, type ShouldRevalidateFunction } from "@remix-run/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState } from "react";
import { TRPCProvider, makeTrpcClient } from "./lib/trpc";
import { StepUpProvider } from "./lib/use-step-up";
import { useNonce } from "./lib/nonce";
import { AppShell } from "./components/app-shell";
import { ErrorPage, errorTitle } from "./components/error-page";
import { pageTitle } from "./lib/sections";
import { shellIdentity } from "./lib/auth.server";
import stylesHref from "./styles/app.css";

const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><g fill="#0f766e"><ellipse cx="16" cy="25.5" rx="11.5" ry="4.5"/><ellipse cx="15" cy="17.8" rx="8.2" ry="3.6" opacity=".85"/><ellipse cx="16.6" cy="11.2" rx="5.6" ry="3" opacity=".7"/><ellipse cx="15.6" cy="5.6" rx="3.3" ry="2.3" opacity=".55"/></g></svg>';

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: stylesHref },
  { rel: "icon", type: "image/svg+xml", href: `data:image/svg+xml,${encodeURIComponent(FAVICON_SVG)}` },
];

export const meta: MetaFunction = ({ error }) => [
  { title: error ? pageTitle(errorTitle(error)) : "Cairn" },
  { name: "description", content: "Cairn: self-hosted control plane for security collection and node fabric administration." },
];

// Every page but the sign-in page needs someone signed in; the shell shows who, and in which tenant.
export async function loader({ context, request }: LoaderFunctionArgs) {
  return { requestId: context.requestId, me: await shellIdentity(context, request) };
}

// Re-run on every navigation so an error page quotes the id of the request that actually failed.
export const shouldRevalidate: ShouldRevalidateFunction = () => true;

export function Layout({ children }: { children: React.ReactNode }) {
  const nonce = useNonce();
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <Meta />
        <Links />
      </head>
      <body>
        {children}
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

export default function App() {
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { staleTime: 5_000 } } }));
  const [trpcClient] = useState(() => makeTrpcClient());
  const { me } = useLoaderData<typeof loader>();
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <AppShell me={me}>
          <StepUpProvider>
            <Outlet />
          </StepUpProvider>
        </AppShell>
      </TRPCProvider>
    </QueryClientProvider>
  );
}

export function ErrorBoundary() {
  const error = useRouteError();
  const rootData = useRouteLoaderData<typeof loader>("root");
  return (
    <AppShell me={rootData?.me ?? null}>
      <ErrorPage error={error} requestId={rootData?.requestId ?? null} />
    </AppShell>
  );
}
