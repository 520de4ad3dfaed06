export declare const TARGET: string;
export declare function sha256RoundsSource(): string;
