/**
 * The System & Updates functions and tables as a Convex component. An app installs it in its own
 * `convex/convex.config.ts` with `app.use(owlatSystem)`; its tables live apart from the app's, and
 * only the app's functions can call it (README, "Add it to your Nuxt app").
 */
import { defineComponent } from 'convex/server'

export default defineComponent('owlatSystem')
