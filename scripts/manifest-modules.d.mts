export declare const BARE: Readonly<Record<string, string>>;
export declare function specifierOf(manifest: { modules?: Record<string, string | string[]> }, file: string): string | null;
export declare function unlisted(manifest: { modules?: Record<string, string | string[]> }, file: string): string | null;
