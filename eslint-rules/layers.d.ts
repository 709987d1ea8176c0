// Types of the plain-JS rule module, for the tests that import it.
import type { ESLint } from 'eslint';

export type Grant = 'all' | 'types';
export declare const LAYERS: Readonly<Record<string, Readonly<Record<string, Grant>>>>;
export declare function layerOf(relativePath: string): string;
export declare const layersPlugin: ESLint.Plugin;
