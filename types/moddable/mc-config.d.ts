// Moddable SDK `mc/config`: the manifest's `config` object, generated at build time.
declare module "mc/config" {
  const config: Readonly<Record<string, unknown>>;
  export default config;
}
