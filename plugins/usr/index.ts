export { UsrHandler } from './handler';
