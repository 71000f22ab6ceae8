// Browser redirects for OIDC sign-in: /auth/oidc/start sends the user to the provider, /auth/oidc/callback brings them back.
import { Router, type Response } from "express";
import { AppError } from "../errors.ts";
import { sendError } from "./rest.ts";
import { oidcConfigured } from "../domain/auth/oidc-config.ts";
import { createOidcService, oidcCallbackUrl, OIDC_CALLBACK_PATH, OIDC_STATE_COOKIE, OidcLoginError, type OidcRuntime } from "../domain/auth/oidc.service.ts";
import { readCookie, sessionCookie } from "../domain/auth/session.service.ts";

function stateCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${OIDC_STATE_COOKIE}=${value}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? "; Secure" : ""}`;
}

function toLogin(res: Response, code: string) {
  res.redirect(302, `/login?error=${encodeURIComponent(code)}`);
}

export function oidcRoutes(rt: OidcRuntime): Router {
  const r = Router();
  const secure = rt.env.publicUrl.startsWith("https://");
  const service = createOidcService(rt);

  r.use("/auth/oidc", (_req, res, next) => {
    res.setHeader("Cache-Control", "no-store");
    next();
  });

  r.get("/auth/oidc/start", async (req, res, next) => {
    res.locals.routeLabel = "/auth/oidc/start";
    if (!oidcConfigured(rt.env)) {
      sendError(res, new AppError("NOT_FOUND", "OIDC login is not configured on this server (set CAIRN_OIDC_ISSUER, CAIRN_OIDC_CLIENT_ID and CAIRN_OIDC_CLIENT_SECRET)"));
      return;
    }
    try {
      const { url, state } = await service.startLogin({ returnTo: typeof req.query.return_to === "string" ? req.query.return_to : null });
      res.append("Set-Cookie", stateCookie(state, 600, secure));
      res.redirect(302, url.href);
    } catch (err) {
      if (!(err instanceof OidcLoginError)) return next(err);
      rt.log.error({ code: err.code, reason: err.reason }, "oidc login could not start");
      toLogin(res, err.code);
    }
  });

  r.get(OIDC_CALLBACK_PATH, async (req, res, next) => {
    res.locals.routeLabel = OIDC_CALLBACK_PATH;
    if (!oidcConfigured(rt.env)) {
      sendError(res, new AppError("NOT_FOUND", "OIDC login is not configured on this server"));
      return;
    }
    // The redirect_uri the provider checks is the one we registered, so rebuild it from the public URL, not the Host header.
    const query = req.originalUrl.includes("?") ? req.originalUrl.slice(req.originalUrl.indexOf("?")) : "";
    const currentUrl = new URL(`${oidcCallbackUrl(rt.env.publicUrl)}${query}`);
    res.append("Set-Cookie", stateCookie("", 0, secure));
    try {
      const result = await service.finishLogin(currentUrl, {
        stateCookie: readCookie(req.headers.cookie, OIDC_STATE_COOKIE),
        ip: req.ip ?? null,
        userAgent: req.get("user-agent") ?? null,
        requestId: (res.locals.requestId as string | undefined) ?? null,
      });
      res.append("Set-Cookie", sessionCookie(result.token, result.session.expiresAt, secure));
      res.redirect(302, result.returnTo);
    } catch (err) {
      if (!(err instanceof OidcLoginError)) return next(err);
      toLogin(res, err.code);
    }
  });

  return r;
}
