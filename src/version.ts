/**
 * Curfew's version: package.json's, read once. This module sits one level below the package root
 * both as source (src/) and as build (dist/), so the same relative path finds it from either.
 */
import { createRequire } from "node:module";

export const VERSION: string = (createRequire(import.meta.url)("../package.json") as { version: string }).version;
