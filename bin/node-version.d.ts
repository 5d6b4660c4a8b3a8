export declare const REQUIRED_NODE_MAJOR: number;
export declare function nodeVersionRefusal(version: string): string | undefined;
