// Stemmers (Snowball, from @orama/stemmers) and stop-word lists (@orama/stopwords) by ISO 639-1 code.
// Generated list: every language both packages cover.

import { stemmer as stemArabic } from '@orama/stemmers/arabic';
import { stopwords as stopArabic } from '@orama/stopwords/arabic';
import { stemmer as stemArmenian } from '@orama/stemmers/armenian';
import { stopwords as stopArmenian } from '@orama/stopwords/armenian';
import { stemmer as stemBulgarian } from '@orama/stemmers/bulgarian';
import { stopwords as stopBulgarian } from '@orama/stopwords/bulgarian';
import { stemmer as stemDanish } from '@orama/stemmers/danish';
import { stopwords as stopDanish } from '@orama/stopwords/danish';
import { stemmer as stemDutch } from '@orama/stemmers/dutch';
import { stopwords as stopDutch } from '@orama/stopwords/dutch';
import { stemmer as stemEnglish } from '@orama/stemmers/english';
import { stopwords as stopEnglish } from '@orama/stopwords/english';
import { stemmer as stemFinnish } from '@orama/stemmers/finnish';
import { stopwords as stopFinnish } from '@orama/stopwords/finnish';
import { stemmer as stemFrench } from '@orama/stemmers/french';
import { stopwords as stopFrench } from '@orama/stopwords/french';
import { stemmer as stemGerman } from '@orama/stemmers/german';
import { stopwords as stopGerman } from '@orama/stopwords/german';
import { stemmer as stemGreek } from '@orama/stemmers/greek';
import { stopwords as stopGreek } from '@orama/stopwords/greek';
import { stemmer as stemHungarian } from '@orama/stemmers/hungarian';
import { stopwords as stopHungarian } from '@orama/stopwords/hungarian';
import { stemmer as stemIndonesian } from '@orama/stemmers/indonesian';
import { stopwords as stopIndonesian } from '@orama/stopwords/indonesian';
import { stemmer as stemIrish } from '@orama/stemmers/irish';
import { stopwords as stopIrish } from '@orama/stopwords/irish';
import { stemmer as stemItalian } from '@orama/stemmers/italian';
import { stopwords as stopItalian } from '@orama/stopwords/italian';
import { stemmer as stemLithuanian } from '@orama/stemmers/lithuanian';
import { stopwords as stopLithuanian } from '@orama/stopwords/lithuanian';
import { stemmer as stemNepali } from '@orama/stemmers/nepali';
import { stopwords as stopNepali } from '@orama/stopwords/nepali';
import { stemmer as stemNorwegian } from '@orama/stemmers/norwegian';
import { stopwords as stopNorwegian } from '@orama/stopwords/norwegian';
import { stemmer as stemPortuguese } from '@orama/stemmers/portuguese';
import { stopwords as stopPortuguese } from '@orama/stopwords/portuguese';
import { stemmer as stemRomanian } from '@orama/stemmers/romanian';
import { stopwords as stopRomanian } from '@orama/stopwords/romanian';
import { stemmer as stemRussian } from '@orama/stemmers/russian';
import { stopwords as stopRussian } from '@orama/stopwords/russian';
import { stemmer as stemSerbian } from '@orama/stemmers/serbian';
import { stopwords as stopSerbian } from '@orama/stopwords/serbian';
import { stemmer as stemSpanish } from '@orama/stemmers/spanish';
import { stopwords as stopSpanish } from '@orama/stopwords/spanish';
import { stemmer as stemSwedish } from '@orama/stemmers/swedish';
import { stopwords as stopSwedish } from '@orama/stopwords/swedish';
import { stemmer as stemTamil } from '@orama/stemmers/tamil';
import { stopwords as stopTamil } from '@orama/stopwords/tamil';
import { stemmer as stemTurkish } from '@orama/stemmers/turkish';
import { stopwords as stopTurkish } from '@orama/stopwords/turkish';
import { stemmer as stemUkrainian } from '@orama/stemmers/ukrainian';
import { stopwords as stopUkrainian } from '@orama/stopwords/ukrainian';

export interface LanguageSupport {
  readonly name: string;
  readonly stem: (word: string) => string;
  readonly stopWords: readonly string[];
}

export const LANGUAGES: Readonly<Record<string, LanguageSupport>> = {
  ar: { name: 'arabic', stem: stemArabic, stopWords: stopArabic },
  hy: { name: 'armenian', stem: stemArmenian, stopWords: stopArmenian },
  bg: { name: 'bulgarian', stem: stemBulgarian, stopWords: stopBulgarian },
  da: { name: 'danish', stem: stemDanish, stopWords: stopDanish },
  nl: { name: 'dutch', stem: stemDutch, stopWords: stopDutch },
  en: { name: 'english', stem: stemEnglish, stopWords: stopEnglish },
  fi: { name: 'finnish', stem: stemFinnish, stopWords: stopFinnish },
  fr: { name: 'french', stem: stemFrench, stopWords: stopFrench },
  de: { name: 'german', stem: stemGerman, stopWords: stopGerman },
  el: { name: 'greek', stem: stemGreek, stopWords: stopGreek },
  hu: { name: 'hungarian', stem: stemHungarian, stopWords: stopHungarian },
  id: { name: 'indonesian', stem: stemIndonesian, stopWords: stopIndonesian },
  ga: { name: 'irish', stem: stemIrish, stopWords: stopIrish },
  it: { name: 'italian', stem: stemItalian, stopWords: stopItalian },
  lt: { name: 'lithuanian', stem: stemLithuanian, stopWords: stopLithuanian },
  ne: { name: 'nepali', stem: stemNepali, stopWords: stopNepali },
  no: { name: 'norwegian', stem: stemNorwegian, stopWords: stopNorwegian },
  pt: { name: 'portuguese', stem: stemPortuguese, stopWords: stopPortuguese },
  ro: { name: 'romanian', stem: stemRomanian, stopWords: stopRomanian },
  ru: { name: 'russian', stem: stemRussian, stopWords: stopRussian },
  sr: { name: 'serbian', stem: stemSerbian, stopWords: stopSerbian },
  es: { name: 'spanish', stem: stemSpanish, stopWords: stopSpanish },
  sv: { name: 'swedish', stem: stemSwedish, stopWords: stopSwedish },
  ta: { name: 'tamil', stem: stemTamil, stopWords: stopTamil },
  tr: { name: 'turkish', stem: stemTurkish, stopWords: stopTurkish },
  uk: { name: 'ukrainian', stem: stemUkrainian, stopWords: stopUkrainian },
};
