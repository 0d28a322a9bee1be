import type { Reply } from './http';
import { larkFail, larkOk } from './lark-errors';
import {
  attachmentDisposition,
  blobStream,
  fileContentType,
  fileMatchesType,
  fileTypes,
  fileUploadMaxBytes,
  imageSize,
  imageUploadMaxBytes,
  parseMultipart,
  resourceDownloadMaxBytes,
  resourcesOf,
  sniffImage,
  storeBlob,
  type FileType,
  type FormPart,
} from './media';
import type { Call } from './rest';

// Uploads (`im/v1/images`, `im/v1/files`) and downloads of what a message holds
// (`im/v1/messages/:message_id/resources/:file_key`).

/** GIFs may be at most 2000x2000, other images 12000x12000. */
const maxImageSide = (format: string) => (format === 'gif' ? 2000 : 12000);

function formOf(call: Call): FormPart[] | undefined {
  return parseMultipart(call.req.headers['content-type'], call.req.body);
}

const text = (part: FormPart | undefined) => part?.data.toString('utf8');

/** `POST /open-apis/im/v1/images` (multipart: `image_type=message`, `image`) -> `data.image_key`. */
export function uploadImage(call: Call): Reply {
  const { deps, app, req } = call;
  if (req.bodyTooLarge) return larkFail('resource_size_exceeds', 'an image may be at most 10 MB');
  const form = formOf(call);
  if (!form) return larkFail('resource_invalid_param', 'the body must be multipart/form-data');
  const field = (name: string) => form.find((p) => p.name === name);
  const imageType = text(field('image_type'));
  // Avatar images cannot be sent in messages; this platform instance takes message images only.
  if (imageType !== 'message') return larkFail('resource_invalid_param', 'image_type must be message');
  const image = field('image');
  if (!image) return larkFail('resource_invalid_param', 'image is required');
  if (image.data.length === 0) return larkFail('resource_empty');
  if (image.data.length > imageUploadMaxBytes) return larkFail('resource_size_exceeds', 'an image may be at most 10 MB');
  const format = sniffImage(image.data);
  if (!format) return larkFail('image_format_unknown');
  const size = imageSize(image.data, format.format);
  const side = maxImageSide(format.format);
  if (size && (size.width > side || size.height > side)) {
    return larkFail('resource_invalid_param', `image resolution ${size.width}x${size.height} exceeds ${side}x${side}`);
  }
  const blob = storeBlob(deps.dir, {
    kind: 'image',
    owner: { type: 'app', id: app.appId },
    data: Buffer.from(image.data),
    contentType: format.contentType,
    ...(image.filename ? { fileName: image.filename } : {}),
    ...(size ?? {}),
  });
  return larkOk({ data: { image_key: blob.key } });
}

/** `POST /open-apis/im/v1/files` (multipart: `file_type`, `file_name`, `file`, `duration?`) -> `data.file_key`. */
export function uploadFile(call: Call): Reply {
  const { deps, app, req } = call;
  if (req.bodyTooLarge) return larkFail('resource_size_exceeds', 'a file may be at most 30 MB');
  const form = formOf(call);
  if (!form) return larkFail('resource_invalid_param', 'the body must be multipart/form-data');
  const field = (name: string) => form.find((p) => p.name === name);
  const fileType = text(field('file_type'));
  if (!fileType || !(fileTypes as readonly string[]).includes(fileType)) {
    return larkFail('resource_invalid_param', `file_type must be one of ${fileTypes.join(', ')}`);
  }
  const fileName = text(field('file_name'))?.trim();
  if (!fileName) return larkFail('resource_invalid_param', 'file_name is required');
  const durationText = text(field('duration'));
  if (durationText !== undefined && !/^\d{1,10}$/.test(durationText.trim())) {
    return larkFail('resource_invalid_param', 'duration must be a whole number of milliseconds');
  }
  const file = field('file');
  if (!file) return larkFail('resource_invalid_param', 'file is required');
  if (file.data.length === 0) return larkFail('resource_empty');
  if (file.data.length > fileUploadMaxBytes) return larkFail('resource_size_exceeds', 'a file may be at most 30 MB');
  if (!fileMatchesType(file.data, fileType as FileType)) {
    return larkFail('resource_invalid_param', `the file is not of file_type ${fileType}`);
  }
  const blob = storeBlob(deps.dir, {
    kind: 'file',
    owner: { type: 'app', id: app.appId },
    data: Buffer.from(file.data),
    contentType: fileContentType(file.data, fileName),
    fileName,
    fileType,
    ...(durationText !== undefined ? { durationMs: Number(durationText.trim()) } : {}),
  });
  return larkOk({ data: { file_key: blob.key } });
}

/**
 * `GET /open-apis/im/v1/messages/:message_id/resources/:file_key?type=image|file`: the bytes of a
 * resource of a message in a chat the bot is in. Checks, in order: `type`; the message; the bot in
 * its chat (a forwarded message's: the merge_forward's chat); a merge_forward, a message inside one,
 * a sticker or a card (234043); a recall; the key among the message's resources with that type; the
 * size (100 MB).
 */
export function getMessageResource(call: Call): Reply {
  const { deps, app, req, params } = call;
  const type = req.query.get('type');
  if (type !== 'image' && type !== 'file') return larkFail('resource_invalid_param', 'type must be image or file');
  const message = deps.dir.messages.get(params.message_id);
  if (!message) return larkFail('resource_not_in_message', 'message not found');
  const container = message.upperMessageId ? (deps.dir.messages.get(message.upperMessageId) ?? message) : message;
  const chat = deps.dir.chats.get(container.chatId);
  if (!chat?.appIds.has(app.appId)) return larkFail('resource_app_not_in_chat');
  if (message.upperMessageId !== undefined || message.msgType === 'merge_forward') {
    return larkFail('resource_unsupported_message', 'resources of a merge_forward or of a message inside one cannot be fetched');
  }
  if (message.msgType === 'sticker' || message.msgType === 'interactive') {
    return larkFail('resource_unsupported_message', `resources of ${message.msgType} messages cannot be fetched`);
  }
  if (message.recalledAt !== undefined) return larkFail('resource_not_in_message', 'the message was recalled');
  const ref = resourcesOf(message).find((r) => r.key === params.file_key && r.type === type);
  const blob = ref ? deps.dir.media.get(ref.key) : undefined;
  if (!blob) return larkFail('resource_not_in_message');
  if (blob.size > resourceDownloadMaxBytes) return larkFail('resource_download_too_large');
  return {
    status: 200,
    stream: blobStream(blob),
    headers: {
      'content-type': blob.contentType,
      'content-length': String(blob.size),
      ...(type === 'file' && blob.fileName ? { 'content-disposition': attachmentDisposition(blob.fileName) } : {}),
    },
  };
}
