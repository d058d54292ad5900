// Create the first platform admin from the environment as soon as the server starts.
export default defineNitroPlugin(() => {
  void seedAdminFromEnv()
})
