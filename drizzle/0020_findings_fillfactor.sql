-- Every run rewrites last_seen_at on each asset, relation and finding it sees. None of their indexes covers that
-- column, so with free space on the page PostgreSQL can update in place (HOT) instead of adding an entry to every
-- index. Applies to pages written from now on.
ALTER TABLE findings SET (fillfactor = 75);
--> statement-breakpoint
ALTER TABLE assets SET (fillfactor = 75);
--> statement-breakpoint
ALTER TABLE asset_relations SET (fillfactor = 75);
