// A boolean that also arrives as a REST query string: "true" / "false" from /v1, a real boolean from tRPC callers.
// (z.coerce.boolean() would read "false" as true.) A preprocess pipe, which the OpenAPI generator takes as a query
// parameter.
import { z } from "zod";

export const queryBoolean = () => z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean({ error: 'must be true or false' }));
