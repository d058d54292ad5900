// The part of autocannon's API the benches use (the package ships no types).
declare module 'autocannon' {
  interface Histogram { average: number, p99: number }
  interface Result { requests: Histogram, latency: Histogram, non2xx: number, errors: number }
  function autocannon(opts: { url: string, connections?: number, duration?: number, headers?: Record<string, string> }): Promise<Result>
  export default autocannon
}
