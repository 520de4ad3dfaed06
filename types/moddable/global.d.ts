// The `device` global as the SDK's typings/global.d.ts declares it: the host provider's export.
declare var device: typeof import("embedded:provider/builtin").default;
