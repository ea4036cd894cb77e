export * from "./classify.js";
export * from "./errors.js";
