// Every request gets an id: a well-formed incoming X-Request-Id is honoured, otherwise a fresh UUID; it is echoed back.
import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";

const VALID = /^[A-Za-z0-9._:-]{1,128}$/;

export const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.get("x-request-id");
  const id = incoming && VALID.test(incoming) ? incoming : randomUUID();
  res.locals.requestId = id;
  res.setHeader("X-Request-Id", id);
  next();
};
