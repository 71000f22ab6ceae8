export * from "./system.ts";
export * from "./tenancy.ts";
export * from "./auth.ts";
export * from "./audit.ts";
export * from "./control.ts";
export * from "./fabric.ts";
export * from "./findings.ts";
export * from "./connectors.ts";
