// The /docs page: Swagger UI from the swagger-ui-dist package, started by our own initializer script. Everything is
// served by the gateway itself (no CDN) and the page has no inline script, so its CSP can forbid both.

/**
 * Same origin only and nothing inline: the scripts are swagger-ui-bundle.js and the initializer below, and every
 * request the page makes (the document, "Try it out") goes to this gateway. Swagger UI's stylesheet draws its icons
 * as `data:` SVG images, hence `img-src data:`.
 */
export const DOCS_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

/** Relative links: the page is `/docs`, so they resolve to `/docs/<file>` and `/openapi.json`, also behind a path prefix. */
export const DOCS_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Steward API</title>
    <link rel="stylesheet" href="docs/swagger-ui.css">
    <link rel="stylesheet" href="docs/docs.css">
    <link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="docs/swagger-ui-bundle.js"></script>
    <script src="docs/swagger-initializer.js"></script>
  </body>
</html>
`;

/** Starts Swagger UI on the document; no validator badge (it would call validator.swagger.io), keys not persisted. */
export const DOCS_INITIALIZER_JS = `'use strict';
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: new URL('openapi.json', document.baseURI).href,
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
    displayOperationId: false,
    defaultModelsExpandDepth: 0,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

export const DOCS_CSS = `html { box-sizing: border-box; overflow-y: scroll; }
*, *::before, *::after { box-sizing: inherit; }
body { margin: 0; background: #fafafa; }
`;
