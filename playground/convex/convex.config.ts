// The standalone app's Convex app: the System & Updates component and nothing else, installed
// exactly as a host app installs it.
import { defineApp } from 'convex/server'
import owlatSystem from '../../convex/component/convex.config'

const app = defineApp()
app.use(owlatSystem)

export default app
