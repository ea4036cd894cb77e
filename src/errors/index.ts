export * from "./classify.js";
export * from "./errors.js";
export * from "./invalid-request-error.js";
