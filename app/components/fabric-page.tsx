// The frame of every fabric page: its title and description, then (for platform owners) the tabs across the fabric.
// Organizations get no tabs: the fabric's pages are the platform's, and /fabric shows them their safe status.
import type { ReactNode } from "react";
import { useMe } from "../lib/identity";
import { PageHeader } from "./page-header";
import { FabricNav } from "./fabric-nav";

export function FabricPage({ title, description, actions, testId, children }: { title: string; description?: ReactNode; actions?: ReactNode; testId: string; children: ReactNode }) {
  const me = useMe();
  return (
    <div className="page" data-testid={testId}>
      <PageHeader title={title} description={description} actions={actions} />
      {me?.is_platform_owner ? <FabricNav /> : null}
      {children}
    </div>
  );
}
