// The standalone app guards all of its API the way the module guards its own (server/utils/csrf.ts):
// its sign-in too, so no other page signs a browser in to an account of its choosing.
export default defineEventHandler(event => guardCrossSite(event, ['/api/']))
