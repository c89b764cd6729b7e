export { SalHandler } from './handler';
