// Moddable SDK `mc/config` (typings/mc/config.d.ts): the manifest's `config` object, generated at build time.
declare module "mc/config" {
  var Config: { file: { root: string } } & Record<string, any>;
  export { Config as default };
}
