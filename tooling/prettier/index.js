/**
 * The workspace's formatting, close to how the code was written before a formatter ran: long
 * lines (the contracts' descriptions and SQL read better unbroken), single quotes.
 * @type {import('prettier').Config}
 */
export default {
  printWidth: 140,
  singleQuote: true,
  trailingComma: 'all',
};
