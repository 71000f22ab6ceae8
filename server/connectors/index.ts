// Importing this module registers every built-in connector (server/connectors/registry.ts).
export {};
