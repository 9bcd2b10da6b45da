// The fake exchange's listing: which symbols it trades and how exchangeInfo describes each.

/** What the demo and the tests use; more are added with listSymbols(). */
export const DEFAULT_SYMBOLS = [
  'BTCUSDT',
  'ETHUSDT',
  'SOLUSDT',
  'BNBUSDT',
  'XRPUSDT',
  'ADAUSDT',
  'DOGEUSDT',
  'LTCUSDT',
  'ETHBTC',
  'RETAINUSDT',
];
const QUOTES = ['FDUSD', 'USDT', 'USDC', 'BTC', 'ETH'];
/** PRICE_FILTER tick sizes as Binance lists them for the cheaper pairs; 0.01 for the others. */
const TICK_SIZES: Record<string, string> = {
  DOGEUSDT: '0.00001000',
  XRPUSDT: '0.00010000',
  ADAUSDT: '0.00010000',
  ETHBTC: '0.00001000',
};

/** exchangeInfo's entry for a symbol, in Binance's shape (filters trimmed to the price and lot ones). */
export const symbolInfo = (symbol: string, status: string) => {
  const quoteAsset = QUOTES.find((q) => symbol.endsWith(q) && symbol.length > q.length) ?? 'USDT';
  return {
    symbol,
    status,
    baseAsset: symbol.slice(0, -quoteAsset.length),
    baseAssetPrecision: 8,
    quoteAsset,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    orderTypes: ['LIMIT', 'MARKET'],
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    permissions: [],
    permissionSets: [['SPOT']],
    filters: [
      {
        filterType: 'PRICE_FILTER',
        minPrice: TICK_SIZES[symbol] ?? '0.01000000',
        maxPrice: '1000000.00000000',
        tickSize: TICK_SIZES[symbol] ?? '0.01000000',
      },
      { filterType: 'LOT_SIZE', minQty: '0.00001000', maxQty: '9000.00000000', stepSize: '0.00001000' },
    ],
  };
};
