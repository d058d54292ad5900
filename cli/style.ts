/**
 * Colour for people, plain text for programs: `node:util` styleText checks the stream, so output
 * is coloured on a terminal and plain on a pipe, with `NO_COLOR` set or `TERM=dumb`
 * (`FORCE_COLOR` forces it). Every coloured word the CLI prints goes through here.
 */
import { styleText } from 'node:util'
import type { TextStyle } from '../shared/releases/notes'

type Format = Parameters<typeof styleText>[0]

export function paint(format: Format, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return styleText(format, text, { stream })
}

export const bold = (text: string) => paint('bold', text)
export const dim = (text: string) => paint('dim', text)
export const green = (text: string) => paint('green', text)
export const red = (text: string) => paint('red', text)
export const yellow = (text: string) => paint('yellow', text)
export const cyan = (text: string) => paint('cyan', text)

/** How release notes rendered as text mark headings, emphasis, links and code on this terminal. */
export const notesStyle: TextStyle = {
  heading: text => paint(['bold', 'underline'], text),
  strong: bold,
  link: cyan,
  code: text => paint('cyan', text),
}
