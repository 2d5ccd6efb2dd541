/** The playground page (HTML, gzipped, base64), built from playground/ by `npm run build:playground`. */
export declare const PLAYGROUND_HTML_GZIP: string;
/** The Content-Security-Policy that allows exactly the page's inline script and style. */
export declare const PLAYGROUND_CSP: string;
