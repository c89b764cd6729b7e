export { DisHandler } from './handler';
