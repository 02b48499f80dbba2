// Files imported `with { type: "text" }` are embedded by `bun build --compile` as strings.
declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "*.css" {
  const text: string;
  export default text;
}
declare module "*.client.js" {
  const text: string;
  export default text;
}
// swagger-ui-dist assets, imported `with { type: "file" }` (admin/docs.ts): a path inside the binary.
declare module "swagger-ui-dist/*" {
  const path: string;
  export default path;
}
