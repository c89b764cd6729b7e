export { DropboxHandler } from './handler';
