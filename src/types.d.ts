// Files imported `with { type: "text" }` are embedded by `bun build --compile` as strings.
declare module "*.sql" {
  const text: string;
  export default text;
}
