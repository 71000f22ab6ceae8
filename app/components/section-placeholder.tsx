// The page of a section whose capability is not built yet: its title, what it will hold, and an honest empty state.
import { capabilityById, sectionById, type SectionId } from "../lib/sections";
import { EmptyState } from "./empty-state";
import { PageHeader } from "./page-header";

export function SectionPlaceholder({ id }: { id: SectionId }) {
  const section = sectionById(id);
  return (
    <div className="page" data-testid={`page-${id}`}>
      <PageHeader title={section.label} description={section.description} />
      <EmptyState icon={id} title={section.emptyTitle} arrivesWith={section.arrivesWith ? capabilityById(section.arrivesWith).title : undefined}>
        {section.emptyBody}
      </EmptyState>
    </div>
  );
}
