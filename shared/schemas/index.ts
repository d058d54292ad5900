export * from './common'
export * from './release'
export * from './job'
export * from './api'
