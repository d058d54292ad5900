import { describe, expect, it } from 'vitest'
import { LineBuffer } from '../../sidecar/line-buffer'

describe('LineBuffer', () => {
  it('joins chunks into lines and holds back an unfinished one', () => {
    const buffer = new LineBuffer(10)
    buffer.write('fake web 1.2.2 lis')
    buffer.write('tening\r\nsecond\nthi')
    expect(buffer.tail()).toEqual(['fake web 1.2.2 listening', 'second'])
    buffer.write('rd\n')
    expect(buffer.tail(2)).toEqual(['second', 'third'])
    expect(buffer.tail(0)).toEqual([])
  })

  it('keeps only the newest lines', () => {
    const buffer = new LineBuffer(3)
    for (let i = 1; i <= 5; i++) buffer.push(`line ${i}`)
    expect(buffer.tail()).toEqual(['line 3', 'line 4', 'line 5'])
  })
})
