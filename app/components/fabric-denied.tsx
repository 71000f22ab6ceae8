// What a fabric page shows someone who is not a platform owner: the server refused, and this says why and what they
// can see instead (their organization's safe status), rather than an empty page or an error.
import { Link } from "@remix-run/react";
import { EmptyState } from "./empty-state";

export function FabricDenied({ what, message }: { what: string; message: string }) {
  return (
    <div data-testid="fabric-denied">
      <EmptyState icon="fabric" title="Visible to platform owners">
        {message} {what} belongs to the platform: it names machines, addresses and certificates that serve every organization, so only platform owners see it.{" "}
        <Link to="/fabric">See your organization&rsquo;s fabric status</Link>.
      </EmptyState>
    </div>
  );
}
