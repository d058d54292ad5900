/**
 * Every release this updater has admitted, kept in its data dir as a release folder, so its
 * admission knows the rollback floor of each release it installed whatever a client sends
 * (or leaves out). Read back with the shared directory reader.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../shared/node/private-files'
import { artifactNames } from '../shared/release-artifacts'
import type { ReleaseArtifacts } from '../shared/release-verify'
import { createDirectoryReleaseSource, type ReleaseSource } from '../shared/releases/source'
import type { Release } from '../shared/schemas/release'
import { writeAtomic } from './drivers/stack-files'

export class ReleaseArchive {
  private readonly source: ReleaseSource

  constructor(readonly dir: string, publicKey: () => string | readonly string[]) {
    ensurePrivateDir(dir)
    this.source = createDirectoryReleaseSource({ dir, publicKey })
  }

  /** Keeps a release the admission verified; the copy of an earlier admission stays as it is. */
  keep(version: string, artifacts: Pick<ReleaseArtifacts, 'manifestBytes' | 'signature' | 'compose'>): void {
    const names = artifactNames(version)
    if (existsSync(join(this.dir, names.manifest))) return
    writeAtomic(join(this.dir, names.compose), artifacts.compose, PRIVATE_FILE_MODE)
    writeAtomic(join(this.dir, names.signature), artifacts.signature, PRIVATE_FILE_MODE)
    // The manifest last: a release counts once its manifest is there.
    writeAtomic(join(this.dir, names.manifest), artifacts.manifestBytes, PRIVATE_FILE_MODE)
  }

  /** The kept artifacts of one release, as admitted. */
  artifacts(version: string): Promise<ReleaseArtifacts> {
    return this.source.getArtifacts(version)
  }

  async releases(): Promise<Release[]> {
    return (await this.source.listReleases()).releases
  }
}
