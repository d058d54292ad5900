import { describe, expect, it } from 'vitest'
import { renderNotes } from '../../../shared/releases/notes'

describe('renderNotes', () => {
  it('renders ordinary release notes', () => {
    const html = renderNotes('## 1.3.0\n\n**New:** segments.\n\n- undo history\n')
    expect(html).toContain('<h2>1.3.0</h2>')
    expect(html).toContain('<strong>New:</strong>')
    expect(html).toContain('<li>undo history</li>')
  })

  it('drops script tags together with their content', () => {
    const html = renderNotes('hello <script>alert("x")</script> world')
    expect(html).not.toMatch(/script/i)
    expect(html).not.toContain('alert')
    expect(html).toContain('hello')
  })

  it('drops event handlers and images', () => {
    const html = renderNotes('<img src=x onerror="alert(1)"> <p onclick="alert(2)" style="color:red">text</p>')
    expect(html).not.toMatch(/onerror|onclick|style|<img/i)
    expect(html).toContain('text')
  })

  it.each([
    ['[click](javascript:alert(1))'],
    ['<a href="JaVaScRiPt:alert(1)">click</a>'],
    ['<a href="  javascript:alert(1)">click</a>'],
    ['[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)'],
    ['<a href="vbscript:msgbox(1)">click</a>'],
  ])('removes dangerous link targets: %s', (md) => {
    const html = renderNotes(md)
    expect(html).toContain('click')
    expect(html).not.toMatch(/href=/i)
    expect(html).not.toMatch(/javascript|data:|vbscript/i)
  })

  it('drops iframes, objects, embeds, styles and svg', () => {
    const html = renderNotes('<iframe src="https://evil.example"></iframe><object data="x.swf"></object><embed src="x"><style>body{display:none}</style><svg onload="alert(1)"><circle/></svg>safe')
    expect(html).not.toMatch(/iframe|object|embed|style|svg|onload|evil/i)
    expect(html).toContain('safe')
  })

  it('makes links open safely in a new tab, overriding the author', () => {
    const html = renderNotes('<a href="https://example.com" target="_self" rel="opener">site</a> and [doc](https://docs.example.com)')
    const anchors = html.match(/<a [^>]*>/g) ?? []
    expect(anchors).toHaveLength(2)
    for (const a of anchors) {
      expect(a).toContain('rel="noopener noreferrer nofollow"')
      expect(a).toContain('target="_blank"')
      expect(a).not.toContain('_self')
    }
    expect(anchors[0]).toContain('href="https://example.com"')
    expect(anchors[1]).toContain('href="https://docs.example.com"')
  })
})
