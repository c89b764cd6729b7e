import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';
import { FluxgateError } from '../../errors';
import { eventView, fileView } from '../../intake/file-view';
import { replayFile } from '../../workflow/replay';
import { FILE_STATES, type FileState } from '../../store/journal-repository';
import type { ZodApp } from '../build-app';
import type { HttpDeps } from '../deps';
import { asReply, FileEvent, JournalFile, Page, Pagination, responses } from '../schemas';

const Id = z.object({ id: z.string() });
const KINDS = ['input', 'receipt', 'report'] as const;

/** The file journal: search, a file's timeline, its input / receipt / report, replay. */
export function registerFileRoutes(app: ZodApp, deps: HttpDeps): void {
  const tags = ['files'];
  const { journal } = deps;
  const found = async (id: string) => {
    const file = await journal.get(id);
    if (!file) throw new FluxgateError('FG_FILE_NOT_FOUND', `no file ${id} in the journal`, { fileId: id });
    return file;
  };

  app.get('/api/v1/files', {
    schema: {
      summary: 'the journal, newest first, filtered, a page at a time', tags,
      querystring: z.object({
        account: z.string().optional(), flux: z.string().optional(),
        state: z.enum(FILE_STATES as [FileState, ...FileState[]]).optional(),
        since: z.iso.datetime({ offset: true }).optional().describe('received at or after (ISO 8601)'),
        q: z.string().max(200).optional().describe('text in the file name or outcome summary, or a file id'),
        ...Pagination,
      }),
      response: responses({ 200: Page(JournalFile) }),
    },
  }, async (request) => {
    const { account, flux, state, since, q, limit, cursor } = request.query;
    const page = await journal.list({ accountId: account, flux, state, since: since ? Date.parse(since) : undefined, q, limit, cursor });
    return { items: asReply(page.files.map(fileView)), nextCursor: page.nextCursor };
  });

  app.get('/api/v1/files/:id', {
    schema: { summary: 'one file and its timeline', tags, params: Id, response: responses({ 200: JournalFile.extend({ events: z.array(FileEvent) }) }) },
  }, async (request) => {
    const file = await found(request.params.id);
    return asReply({ ...fileView(file), events: (await journal.events(file.id)).map(eventView) });
  });

  app.get('/api/v1/files/:id/:kind', {
    schema: {
      summary: 'download the input file (archived or quarantined), its proof of receipt, or its report', tags,
      params: z.object({ id: z.string(), kind: z.enum(KINDS) }), produces: ['application/octet-stream'],
      response: responses({ 200: z.any().describe('the file') }),
    },
  }, async (request, reply) => {
    const file = await found(request.params.id);
    const kind = request.params.kind;
    const path = kind === 'input' ? file.location : kind === 'receipt' ? (file.receiptWrittenAt ? file.receiptPath : null) : file.reportPath;
    const stat = path ? statSync(path, { throwIfNoEntry: false }) : undefined;
    if (!path || !stat?.isFile()) {
      throw new FluxgateError('FG_NO_SUCH_FILE', `file ${file.id} has no ${kind}${path ? ` any more at ${path} (removed by retention?)` : ''}`, { fileId: file.id, kind });
    }
    return reply.type('application/octet-stream').header('content-length', stat.size)
      // The input under the name it was uploaded with (archives prefix it with the file id).
      .header('content-disposition', `attachment; filename="${(kind === 'input' ? file.name : basename(path)).replace(/[^\x20-\x7e]|["\\]/g, '_')}"`)
      .serializer((p) => p as string).send(createReadStream(path));
  });

  app.post('/api/v1/files/:id/replay', {
    schema: {
      summary: 'process an archived or quarantined file again', tags, params: Id,
      response: responses({ 202: z.object({ id: z.string(), from: z.string(), state: z.string(), queued: z.boolean(), location: z.string() }) }),
    },
  }, async (request, reply) => reply.code(202).send(await replayFile(request.params.id, deps.journal, deps.files)));
}
