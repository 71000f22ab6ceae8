// Switches the session to another of the person's tenants, then returns to the page they were on.
import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { load } from "../lib/auth.server";
import { safeNext } from "../lib/identity";

export async function action({ context, request }: ActionFunctionArgs) {
  const form = await request.formData();
  const tenantId = String(form.get("tenant_id") ?? "");
  await load(request, () => context.caller.auth.switchTenant({ tenant_id: tenantId }));
  return redirect(safeNext(form.get("redirect_to")));
}

export function loader() {
  return redirect("/");
}
