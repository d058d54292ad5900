/**
 * Release notes are markdown written outside this instance (a GitHub release body, a file in a
 * release folder): render them, then keep only inert formatting and safe links.
 */
import { Marked } from 'marked'
import sanitizeHtml from 'sanitize-html'

// A private instance so no other code's marked.use() changes how notes render.
const marked = new Marked({ gfm: true, breaks: false, async: false })

const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: [
    'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'br', 'hr', 'blockquote', 'pre', 'code',
    'ul', 'ol', 'li', 'strong', 'em', 'del', 's', 'a',
    'table', 'thead', 'tbody', 'tr', 'th', 'td',
  ],
  allowedAttributes: { a: ['href', 'title', 'rel', 'target'], ol: ['start'], th: ['align'], td: ['align'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  // Dropped together with their content, not just unwrapped.
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'iframe', 'object', 'embed', 'svg', 'math'],
  disallowedTagsMode: 'discard',
  transformTags: {
    a: (tagName, attribs) => ({
      tagName,
      attribs: { ...attribs, rel: 'noopener noreferrer nofollow', target: '_blank' },
    }),
  },
}

export function renderNotes(markdown: string): string {
  const html = marked.parse(markdown) as string
  return sanitizeHtml(html, SANITIZE).trim()
}

/**
 * Notes often open with a heading that is just the version ("## 1.3.0", "# v1.3.0 (2026-11-01)"),
 * which the page and the CLI already show above them: drop that one heading.
 */
export function stripVersionHeading(markdown: string, version: string): string {
  const escaped = version.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const heading = new RegExp(`^\\s*#{1,6}[ \\t]+(?:(?:release|version|owlat)[ \\t]+)?v?${escaped}(?![\\w.-])[^\\n]*(?:\\n|$)`, 'i')
  return markdown.replace(heading, '').replace(/^\s*\n/, '')
}

/** Renders the notes of `version` for the page: its title heading dropped, then sanitised HTML. */
export function renderReleaseNotes(markdown: string, version: string): string {
  return renderNotes(stripVersionHeading(markdown, version))
}

/** How the text rendering marks emphasis and links; plain by default (a pipe, NO_COLOR). */
export interface TextStyle {
  strong: (text: string) => string
  heading: (text: string) => string
  link: (text: string) => string
  code: (text: string) => string
}

const PLAIN: TextStyle = { strong: t => t, heading: t => t, link: t => t, code: t => t }

type Token = ReturnType<typeof marked.lexer>[number]
type Tokens = { tokens?: Token[], text?: string, raw?: string }

function stripTags(html: string): string {
  return html.replace(/<(script|style|iframe|object|embed|svg|math|noscript|textarea)\b[\s\S]*?<\/\1\s*>/gi, '').replace(/<[^>]*>/g, '')
}

/** Control characters (escape sequences above all) would let notes drive the operator's terminal. */
function stripControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '').replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '')
}

function inlineToken(token: Token, style: TextStyle): string {
  const t = token as Token & Tokens & { href?: string }
  switch (token.type) {
    case 'strong': return style.strong(inline(t.tokens, style))
    case 'em':
    case 'del': return inline(t.tokens, style)
    case 'codespan': return style.code(t.text ?? '')
    case 'br': return '\n'
    case 'link': {
      const text = inline(t.tokens, style)
      // A link whose address is unsafe shows only its text, as on the page.
      const safe = t.href && /^(https?:|mailto:)/i.test(t.href) ? t.href : null
      return safe && safe !== text ? `${text} (${style.link(safe)})` : text
    }
    case 'image': return t.text ?? ''
    case 'html': return stripTags(t.raw ?? '')
    default: return t.tokens ? inline(t.tokens, style) : (t.text ?? t.raw ?? '')
  }
}

function inline(tokens: Token[] | undefined, style: TextStyle): string {
  return (tokens ?? []).map(token => inlineToken(token, style)).join('')
}

function indent(text: string, prefix: string, first = prefix): string {
  return text.split('\n').map((line, i) => (i === 0 ? first : prefix) + line).join('\n')
}

function blockToken(token: Token, style: TextStyle): string {
  const t = token as Token & Tokens
  switch (token.type) {
    case 'space': return ''
    case 'heading': return style.heading(inline(t.tokens, style))
    case 'paragraph': return inline(t.tokens, style)
    case 'text': return t.tokens ? inline(t.tokens, style) : t.text ?? ''
    case 'code': return indent(t.text ?? '', '    ')
    case 'blockquote': return indent(blocks(t.tokens ?? [], style).join('\n\n'), '  │ ')
    case 'hr': return '────'
    case 'list': {
      const list = token as Extract<Token, { type: 'list' }>
      const start = typeof list.start === 'number' ? list.start : 1
      return list.items.map((item, i) => {
        const marker = list.ordered ? `${start + i}. ` : '• '
        return indent(blocks(item.tokens, style).join('\n'), ' '.repeat(marker.length + 2), `  ${marker}`)
      }).join('\n')
    }
    case 'table': {
      const table = token as Extract<Token, { type: 'table' }>
      return [table.header, ...table.rows].map(cells => cells.map(c => inline(c.tokens, style)).join('  │  ')).join('\n')
    }
    default: return stripTags(t.raw ?? '').trim()
  }
}

function blocks(tokens: Token[], style: TextStyle): string[] {
  return tokens.map(token => blockToken(token, style)).filter(b => b !== '')
}

/**
 * The notes as terminal text (the CLI): headings, paragraphs, bullets and `text (address)` links
 * instead of markdown syntax; raw HTML reduced to its text. `version` drops a title heading.
 */
export function notesToText(markdown: string, version?: string, style: TextStyle = PLAIN): string {
  const source = stripControls(version ? stripVersionHeading(markdown, version) : markdown)
  // Only blank lines go at the start: a list's first item keeps its indent.
  return blocks(marked.lexer(source), style).join('\n\n').replace(/^(?:[ \t]*\n)+/, '').trimEnd()
}
