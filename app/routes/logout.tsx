// Sign out: ends this session on the server (which clears the cookie) and returns to the sign-in page.
// Only a POST signs out, so a link or image elsewhere cannot.
import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { procedureFailure } from "../lib/auth.server";

export async function action({ context }: ActionFunctionArgs) {
  try {
    await context.caller.auth.logout();
  } catch (err) {
    // Already signed out (or the session expired meanwhile): the sign-in page is still where this ends.
    if (procedureFailure(err).code !== "UNAUTHENTICATED") throw err;
  }
  return redirect("/login");
}

export function loader() {
  return redirect("/");
}
