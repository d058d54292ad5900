import { describe, expect, it } from 'vitest'
import { notesToText, renderNotes, renderReleaseNotes, stripVersionHeading } from '../../../shared/releases/notes'

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

// Issue 13, defect 8 (notes repeat the version title) and 9 (the CLI prints raw markdown).
describe('the version title and text rendering', () => {
  it.each([
    ['## 1.3.0\n\nBody.', 'Body.'],
    ['# v1.3.0 (2026-11-01)\nBody.', 'Body.'],
    ['### Release 1.3.0\n\nBody.', 'Body.'],
    ['\n## 1.3.0\n\nBody.', 'Body.'],
  ])('drops the heading that is only the version: %j', (markdown, rest) => {
    expect(stripVersionHeading(markdown, '1.3.0')).toBe(rest)
  })

  it.each([
    ['## 1.3.0.1 hotfix\nBody.'],
    ['## 1.3.00\nBody.'],
    ['## What is new in 1.3.0\nBody.'],
    ['Intro\n## 1.3.0\nBody.'],
  ])('keeps any other heading: %j', (markdown) => {
    expect(stripVersionHeading(markdown, '1.3.0')).toBe(markdown)
  })

  it('renders the page\'s notes without the title', () => {
    expect(renderReleaseNotes('## 1.3.0\n\n**New:** segments.', '1.3.0')).toBe('<p><strong>New:</strong> segments.</p>')
  })

  it('turns markdown into terminal text: bullets, numbered items, links with their address, no markup', () => {
    const text = notesToText('## 1.3.0\n\n**New:** segments can be scheduled.\n\n- Undo history.\n- See the [changelog](https://example.com/1.3.0).\n\n1. one\n2. two\n\n`code` and <b>html</b> [x](javascript:alert(1))', '1.3.0')
    expect(text).toBe([
      'New: segments can be scheduled.',
      '',
      '  • Undo history.\n  • See the changelog (https://example.com/1.3.0).',
      '',
      '  1. one\n  2. two',
      '',
      'code and html x',
    ].join('\n'))
    expect(text).not.toMatch(/[*#`<>[\]]/)
  })

  it('drops escape sequences and control characters that would drive the terminal', () => {
    expect(notesToText('Fixed \u001B[31mred\u001B[0m\u0007 text\u001B]0;title\u0007.')).toBe('Fixed red text]0;title.')
  })

  it('styles with what it is given (colour on a terminal)', () => {
    const text = notesToText('# Title\n\n**bold** [l](https://a.example)', undefined, { heading: t => `H(${t})`, strong: t => `S(${t})`, link: t => `L(${t})`, code: t => t })
    expect(text).toBe('H(Title)\n\nS(bold) l (L(https://a.example))')
  })
})
